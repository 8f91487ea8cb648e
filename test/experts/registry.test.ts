import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { loadRegistry, parseRegistry, RegistryError } from '../../src/experts/registry.js';
import { tempDir } from './helpers.js';

const shipped = JSON.parse(await readFile('models/experts.json', 'utf8')) as { fallback: string; experts: Record<string, unknown>[] };

function withExpert(index: number, patch: Record<string, unknown>): unknown {
  const copy = structuredClone(shipped);
  copy.experts[index] = { ...copy.experts[index], ...patch };
  return copy;
}

function rejects(raw: unknown, field: string, problem: RegExp): void {
  assert.throws(
    () => parseRegistry(raw, 'models/experts.json'),
    (err: unknown) => {
      assert.ok(err instanceof RegistryError, String(err));
      assert.equal(err.field, field);
      assert.match(err.message, problem);
      assert.ok(err.message.startsWith(`models/experts.json: ${field}: `), err.message);
      return true;
    },
  );
}

test('the shipped registry is valid: four experts, general is the fallback, disclaimers present', () => {
  const reg = parseRegistry(shipped, 'models/experts.json');
  assert.deepEqual(reg.experts.map((e) => e.id), ['healthcare', 'finance', 'cybersecurity', 'general']);
  assert.equal(reg.fallback, 'general');
  assert.deepEqual(reg.experts.map((e) => e.emoji), ['🩺', '💰', '🔐', '💬']);
  assert.equal(reg.experts.find((e) => e.id === 'cybersecurity')?.legacyName, 'CybersecurityExpert');
  assert.match(reg.experts[0]!.systemPrompt, /not a doctor/);
  assert.match(reg.experts[1]!.systemPrompt, /not financial/);
  assert.ok(reg.experts.every((e) => e.model.kind === 'demo'));
});

test('registry problems name the file, the field and the problem', () => {
  rejects({ experts: shipped.experts }, 'fallback', /Required/);
  rejects({ ...shipped, fallback: 'legal' }, 'fallback', /Invalid enum value/);
  rejects(withExpert(1, { generation: { temperature: 5 } }), 'experts[finance].generation.temperature', /less than or equal to 2/);
  rejects(withExpert(0, { emoji: '' }), 'experts[healthcare].emoji', /at least 1/);
  rejects(withExpert(2, { legacyName: 'Cyber Security' }), 'experts[cybersecurity].legacyName', /one word/);
  rejects(withExpert(3, { colour: 'blue' }), 'experts[general]', /Unrecognized key.*colour/);
  rejects(withExpert(0, { id: 'finance' }), 'experts[1].id', /listed twice/);
  const noGeneral = { ...shipped, experts: shipped.experts.slice(0, 3) };
  rejects(noGeneral, 'fallback', /not one of the listed experts/);
  const { systemPrompt: _drop, ...noPrompt } = shipped.experts[0]!;
  rejects({ ...shipped, experts: [noPrompt, ...shipped.experts.slice(1)] }, 'experts[healthcare].systemPrompt', /Required/);
});

test('model sources: demo, hf: URIs and paths relative to the registry file', () => {
  const reg = parseRegistry(
    {
      fallback: 'general',
      experts: [
        { ...shipped.experts[2], model: 'hf:mradermacher/Llama-3-8B-Instruct-Cybersecurity-GGUF:Q4_K_M' },
        { ...shipped.experts[3], model: 'gguf/general.gguf' },
      ],
    },
    '/srv/moe/models/experts.json',
  );
  assert.deepEqual(reg.experts[0]!.model, { kind: 'uri', uri: 'hf:mradermacher/Llama-3-8B-Instruct-Cybersecurity-GGUF:Q4_K_M' });
  assert.deepEqual(reg.experts[1]!.model, { kind: 'file', path: path.resolve('/srv/moe/models/gguf/general.gguf') });
  assert.equal(reg.experts[1]!.legacyName, 'GeneralExpert', 'explicit legacyName is kept');
});

test('an unreadable or non-JSON registry file is a clear error', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(loadRegistry(path.join(dir, 'nope.json')), /nope\.json: \(file\): file not found/);
  await writeFile(path.join(dir, 'bad.json'), '{ "fallback": ');
  await assert.rejects(loadRegistry(path.join(dir, 'bad.json')), /bad\.json: \(file\): not valid JSON/);
});

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
        shipped.experts[0],
        shipped.experts[1],
        { ...shipped.experts[2], model: 'hf:mradermacher/Llama-3-8B-Instruct-Cybersecurity-GGUF:Q4_K_M' },
        { ...shipped.experts[3], model: 'gguf/general.gguf' },
      ],
    },
    '/srv/moe/models/experts.json',
  );
  assert.deepEqual(reg.experts[0]!.model, { kind: 'demo' });
  assert.deepEqual(reg.experts[2]!.model, { kind: 'uri', uri: 'hf:mradermacher/Llama-3-8B-Instruct-Cybersecurity-GGUF:Q4_K_M' });
  assert.deepEqual(reg.experts[3]!.model, { kind: 'file', path: path.resolve('/srv/moe/models/gguf/general.gguf') });
  assert.equal(reg.experts[3]!.legacyName, 'GeneralExpert', 'explicit legacyName is kept');
});

test('an unreadable or non-JSON registry file is a clear error', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(loadRegistry(path.join(dir, 'nope.json')), /nope\.json: \(file\): file not found/);
  await writeFile(path.join(dir, 'bad.json'), '{ "fallback": ');
  await assert.rejects(loadRegistry(path.join(dir, 'bad.json')), /bad\.json: \(file\): not valid JSON/);
  // Saved with a BOM (Notepad does): read as the same registry.
  await writeFile(path.join(dir, 'bom.json'), `\uFEFF${await readFile('models/experts.json', 'utf8')}`);
  const withBom = await loadRegistry(path.join(dir, 'bom.json'));
  assert.deepEqual(withBom.experts.map((e) => [e.id, e.systemPrompt]), shipped.experts.map((e) => [e.id, e.systemPrompt]));
});

test('an expert on a serving engine: endpoint instead of model, with its key from the environment', () => {
  const endpoint = { baseUrl: 'http://127.0.0.1:8001/v1/', model: 'Pankti99/llama-2-7b-HealthCareMagic', apiKeyEnv: 'VLLM_KEY', maxConcurrent: 16 };
  const { model: _m, ...noModel } = shipped.experts[0]!;
  const reg = parseRegistry({ ...shipped, experts: [{ ...noModel, endpoint }, ...shipped.experts.slice(1)] }, 'models/experts.json', { VLLM_KEY: 'sk-local' });
  assert.deepEqual(reg.experts[0]!.model, {
    kind: 'endpoint', baseUrl: 'http://127.0.0.1:8001/v1', model: endpoint.model, apiKey: 'sk-local', apiKeyEnv: 'VLLM_KEY', maxConcurrent: 16,
  });
  assert.equal(reg.experts[0]!.modelSpec, 'Pankti99/llama-2-7b-HealthCareMagic @ http://127.0.0.1:8001/v1');
  const { apiKeyEnv: _k, maxConcurrent: _c, ...plain } = endpoint;
  const defaults = parseRegistry({ ...shipped, experts: [{ ...noModel, endpoint: plain }, ...shipped.experts.slice(1)] }, 'models/experts.json', {});
  assert.deepEqual(defaults.experts[0]!.model, { kind: 'endpoint', baseUrl: 'http://127.0.0.1:8001/v1', model: endpoint.model, apiKey: null, apiKeyEnv: null, maxConcurrent: 8 });
});

test('the registry rejects model with endpoint, a bad URL and a missing key variable, each in one line', () => {
  const endpoint = { baseUrl: 'http://127.0.0.1:8001/v1', model: 'm' };
  const oneLine = (raw: unknown, env: Record<string, string>, field: string, problem: RegExp): void => {
    assert.throws(() => parseRegistry(raw, 'models/experts.json', env), (err: unknown) => {
      assert.ok(err instanceof RegistryError, String(err));
      assert.equal(err.field, field);
      assert.match(err.message, problem);
      assert.equal(err.message.split('\n').length, 1, err.message);
      return true;
    });
  };
  oneLine(withExpert(1, { endpoint }), {}, 'experts[finance]', /has both "model" and "endpoint"; give one/);
  const { model: _m, ...noModel } = shipped.experts[1]!;
  const financeWith = (patch: Record<string, unknown>): unknown => ({ ...shipped, experts: shipped.experts.map((e, i) => (i === 1 ? { ...noModel, ...patch } : e)) });
  oneLine(financeWith({ endpoint: { ...endpoint, baseUrl: 'localhost:8001' } }), {}, 'experts[finance].endpoint.baseUrl', /expected an http\(s\) URL like http:\/\/127\.0\.0\.1:8001\/v1 .*, got "localhost:8001"/);
  oneLine(financeWith({ endpoint: { ...endpoint, baseUrl: 'ftp://host/v1' } }), {}, 'experts[finance].endpoint.baseUrl', /expected an http\(s\) URL/);
  for (const baseUrl of ['http://127.0.0.1:8001/v1?x=1', 'http://127.0.0.1:8001/v1#f', 'http://user:pw@127.0.0.1:8001/v1']) {
    oneLine(financeWith({ endpoint: { ...endpoint, baseUrl } }), {}, 'experts[finance].endpoint.baseUrl', /no query, #fragment or user:password@; a key goes in apiKeyEnv/);
  }
  oneLine(financeWith({ endpoint: { ...endpoint, apiKeyEnv: 'FIN_KEY' } }), {}, 'experts[finance].endpoint.apiKeyEnv', /the environment variable FIN_KEY is not set/);
  oneLine(financeWith({ endpoint: { ...endpoint, apiKeyEnv: 'FIN_KEY' } }), { FIN_KEY: '  ' }, 'experts[finance].endpoint.apiKeyEnv', /FIN_KEY is not set/);
  oneLine(financeWith({ endpoint: { ...endpoint, maxConcurrent: 0 } }), {}, 'experts[finance].endpoint.maxConcurrent', /greater than or equal to 1/);
  oneLine(financeWith({}), {}, 'experts[finance]', /needs "model" .* or "endpoint"/);
});

test('a registry without one of the gate\'s domains is refused: its questions would have nowhere to go', () => {
  const noFinance = { ...shipped, experts: shipped.experts.filter((e) => e.id !== 'finance') };
  rejects(noFinance, 'experts', /the gate routes to healthcare, finance, cybersecurity; add "finance"/);
  const onlyGeneral = { ...shipped, experts: shipped.experts.filter((e) => e.id === 'general') };
  rejects(onlyGeneral, 'experts', /add "healthcare" and "finance" and "cybersecurity"/);
});

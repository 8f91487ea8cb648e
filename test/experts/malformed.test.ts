import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { DEMO_CORPUS } from '../../src/experts/demo/demoCorpus.js';
import { buildDemoModel } from '../../src/experts/demo/demoModel.js';
import { writeDemoRegistry } from '../support/writeDemoRegistry.js';
import { encodeGguf, writeGguf } from '../../src/experts/demo/writeGguf.js';
import { tempDir } from './helpers.js';

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
  state?: string;
  reason?: string | null;
}

function runChild(registryPath: string, demoDir: string): Record<string, Outcome> {
  const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'malformedChild.ts'), registryPath, demoDir], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(child.status, 0, `child process died (signal ${child.signal}): ${child.stderr}`);
  const line = child.stdout.trim().split('\n').at(-1)!;
  return JSON.parse(line) as Record<string, Outcome>;
}

test('missing, corrupt or malformed model files make only that expert unavailable; the process survives', async (t) => {
  const dir = await tempDir(t);
  const base = buildDemoModel({ corpus: DEMO_CORPUS.finance });

  const noFeedForward = { ...base.metadata };
  delete noFeedForward['llama.feed_forward_length'];
  await writeGguf(path.join(dir, 'no-ffn.gguf'), { metadata: noFeedForward, tensors: base.tensors });

  const noHeads = { ...base.metadata };
  delete noHeads['llama.attention.head_count'];
  await writeGguf(path.join(dir, 'no-heads.gguf'), { metadata: noHeads, tensors: base.tensors });

  await writeFile(path.join(dir, 'corrupt.gguf'), Buffer.from('this is not a model file at all'.repeat(100)));

  const badShape = base.tensors.map((t) => (t.name === 'output.weight' ? { ...t, dims: [t.dims[0]! / 2, t.dims[1]! * 2] } : t));
  await writeGguf(path.join(dir, 'bad-shape.gguf'), { metadata: base.metadata, tensors: badShape });

  const full = encodeGguf({ metadata: base.metadata, tensors: base.tensors });
  await writeFile(path.join(dir, 'truncated.gguf'), full.subarray(0, Math.floor(full.length * 0.6)));

  const cases: Record<string, { file: string; reason: RegExp }> = {
    healthcare: { file: 'does-not-exist.gguf', reason: /model file not found/ },
    finance: { file: 'no-ffn.gguf', reason: /llama\.feed_forward_length/ },
    cybersecurity: { file: 'corrupt.gguf', reason: /not a valid GGUF file/ },
  };
  const registryPath = await writeDemoRegistry(dir, {
    models: { healthcare: cases.healthcare!.file, finance: cases.finance!.file, cybersecurity: cases.cybersecurity!.file },
  });
  const results = runChild(registryPath, path.join(dir, 'demo'));
  for (const [id, c] of Object.entries(cases)) {
    const r = results[id]!;
    assert.equal(r.ok, false, id);
    assert.equal(r.code, 'expert_unavailable', `${id}: ${r.message}`);
    assert.equal(r.state, 'unavailable', id);
    assert.match(r.reason ?? '', c.reason, id);
    assert.match(r.message ?? '', c.reason, id);
  }
  assert.equal(results.general?.ok, true, 'the fallback expert still answers in the same process');

  // Second registry: the other malformed shapes, including one that passes the metadata check but not llama.cpp's loader.
  const dir2 = path.join(dir, 'second');
  const registry2 = await writeDemoRegistry(dir2, {
    models: {
      healthcare: path.join(dir, 'no-heads.gguf'),
      finance: path.join(dir, 'truncated.gguf'),
      cybersecurity: path.join(dir, 'bad-shape.gguf'),
    },
  });
  const results2 = runChild(registry2, path.join(dir2, 'demo'));
  assert.match(results2.healthcare?.reason ?? '', /llama\.attention\.head_count/);
  // The truncated file is caught before llama.cpp by its size against the tensor table (15.7); the bad shape passes
  // every check of ours, llama.cpp's loader rejects it and its log line becomes the reason.
  assert.equal(results2.finance?.code, 'expert_unavailable', results2.finance?.message);
  assert.equal(results2.finance?.state, 'unavailable');
  assert.match(results2.finance?.reason ?? '', /truncated\.gguf: truncated GGUF: its tensor table needs \d+ bytes but the file has \d+/);
  assert.equal(results2.cybersecurity?.code, 'expert_unavailable');
  assert.match(results2.cybersecurity?.reason ?? '', /output\.weight' has wrong shape/);
  assert.equal(results2.general?.ok, true);
});

test('the writer round-trips through node-llama-cpp\'s GGUF reader', async (t) => {
  const dir = await tempDir(t);
  const { readGgufFileInfo } = await import('node-llama-cpp');
  const file = path.join(dir, 'demo.gguf');
  const { metadata, tensors, summary } = buildDemoModel({ corpus: ['Hello world. Hello there.'], name: 'roundtrip' });
  await writeGguf(file, { metadata, tensors });
  const info = await readGgufFileInfo(file, { logWarnings: false });
  assert.equal(info.metadata.general.architecture, 'llama');
  assert.equal(info.metadata.general.name, 'roundtrip');
  assert.equal(info.tensorInfo?.length, tensors.length);
  assert.equal(info.metadata.tokenizer.ggml.tokens.length, summary.vocabSize);
  assert.ok((await readFile(file)).subarray(0, 4).equals(Buffer.from('GGUF')));
});

/**
 * The dashboard's front end: ui/main.ts and ui/dashboard.css bundled by esbuild (Chart.js included, no CDN).
 * `npm run build` writes them into dist beside this file's compiled copy; running from source, they are bundled in
 * memory on first request instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DashboardAssets {
  js: string;
  css: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** The ui/ sources: beside this file when running from source, or in the repo when running from dist/. */
function sourceDir(): string {
  const local = path.join(here, 'ui');
  if (fs.existsSync(path.join(local, 'main.ts'))) return local;
  return path.resolve(here, '../../../../adapters/http/admin/ui');
}

/** Where `npm run build` puts the bundle (dist/adapters/http/admin/ui). */
const builtDir = path.join(here, 'ui');

export async function bundleDashboard(): Promise<DashboardAssets> {
  // esbuild is a build tool: loaded only when bundling, never by a built server.
  const esbuild = await import('esbuild');
  const src = sourceDir();
  const result = await esbuild.build({
    entryPoints: [path.join(src, 'main.ts'), path.join(src, 'dashboard.css')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2020'],
    outdir: 'out',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const pick = (ext: string): string => {
    const file = result.outputFiles.find((f) => f.path.endsWith(ext));
    if (!file) throw new Error(`esbuild produced no ${ext} file`);
    return file.text;
  };
  return { js: pick('.js'), css: pick('.css') };
}

/** The built bundle when it exists (a built server), otherwise bundled now from the sources. */
export async function loadDashboardAssets(): Promise<DashboardAssets> {
  const js = path.join(builtDir, 'dashboard.js');
  const css = path.join(builtDir, 'dashboard.css');
  if (fs.existsSync(js) && fs.existsSync(css)) return { js: fs.readFileSync(js, 'utf8'), css: fs.readFileSync(css, 'utf8') };
  return bundleDashboard();
}

/** `node dist/adapters/http/admin/bundleDashboard.js`: the build step. */
async function writeBundle(): Promise<void> {
  const assets = await bundleDashboard();
  fs.mkdirSync(builtDir, { recursive: true });
  fs.writeFileSync(path.join(builtDir, 'dashboard.js'), assets.js);
  fs.writeFileSync(path.join(builtDir, 'dashboard.css'), assets.css);
  console.log(`dashboard: ${path.relative(process.cwd(), builtDir)}/dashboard.js ${(assets.js.length / 1024).toFixed(0)} KiB, dashboard.css ${(assets.css.length / 1024).toFixed(0)} KiB`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeBundle().catch((err: unknown) => {
    console.error(`dashboard bundle failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}

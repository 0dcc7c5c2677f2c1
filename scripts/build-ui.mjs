// Build the dashboard served at /ui into dist/ui: the Preact page bundled by
// esbuild (app.js + app.css), its HTML, and the world's land as one SVG path
// drawn from Natural Earth's 110m land (world-atlas), so the map needs no network.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { feature } from 'topojson-client';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'ui');
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(root, 'src/ui/app/main.tsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outfile: join(out, 'app.js'),
  logLevel: 'warning',
  legalComments: 'none',
});
copyFileSync(join(root, 'src/ui/app/index.html'), join(out, 'index.html'));

// Equirectangular: x = longitude, y = -latitude, the same plane the page places regions on.
const require = createRequire(import.meta.url);
const topo = JSON.parse(readFileSync(require.resolve('world-atlas/land-110m.json'), 'utf8'));
const land = feature(topo, topo.objects.land);
const pt = ([lon, lat]) => `${lon.toFixed(1)} ${(-lat).toFixed(1)}`;
let d = '';
for (const f of land.features) {
  const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
  for (const poly of polys) for (const ring of poly) d += `M${ring.map(pt).join('L')}Z`;
}
writeFileSync(join(out, 'land.svg'),
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="-180 -90 360 180" width="360" height="180">'
  + `<path d="${d}" fill="#d5dde6" stroke="#b4c0cc" stroke-width="0.3"/></svg>\n`);

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
const path = (ring) => `M${ring.map(([lon, lat]) => `${lon.toFixed(1)} ${(-lat).toFixed(1)}`).join('L')}Z`;
// Rings that cross the antimeridian (Chukotka, Fiji) are unwrapped into one
// continuous run of longitudes and drawn again shifted by 360°; the view clips
// both, so no stray line crosses the map.
function unwrap(ring) {
  const out = [ring[0]];
  for (const [lon0, lat] of ring.slice(1)) {
    const prev = out[out.length - 1][0];
    let lon = lon0;
    while (lon - prev > 180) lon -= 360;
    while (lon - prev < -180) lon += 360;
    out.push([lon, lat]);
  }
  return out;
}
let d = '';
for (const f of land.features) {
  const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
  for (const poly of polys) {
    for (const ring of poly) {
      const u = unwrap(ring);
      d += path(u);
      const lons = u.map((p) => p[0]);
      if (Math.max(...lons) > 180) d += path(u.map(([lon, lat]) => [lon - 360, lat]));
      if (Math.min(...lons) < -180) d += path(u.map(([lon, lat]) => [lon + 360, lat]));
    }
  }
}
writeFileSync(
  join(out, 'land.svg'),
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="-180 -90 360 180" width="360" height="180">' +
    `<path d="${d}" fill="#d5dde6" stroke="#b4c0cc" stroke-width="0.3"/></svg>\n`,
);

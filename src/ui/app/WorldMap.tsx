// The region table on a world map: x = longitude, y = −latitude (the plane
// land.svg is drawn on at build time). A dot per region, sized by machines;
// labels near the right edge go to the dot's left so the map does not cut them.
import { matches } from '../format.js';
import { regionCounts, type Mesh } from '../model.js';
import { Empty, Table } from './Table.js';

/** Latitudes 84°N to 60°S: no region sits on Antarctica. */
const VIEW = { x: -180, y: -84, w: 360, h: 144 };

export function WorldMap(props: { mesh: Mesh; filter: string }) {
  const { mesh, filter } = props;
  const machines = [...mesh.machines.values()].filter((m) => matches(filter, m.id, m.app, m.region, m.state, m.address));
  const counts = regionCounts(mesh, machines);
  const regions = [...mesh.regions.values()].sort((a, b) => a.code.localeCompare(b.code));
  const active = regions.filter((r) => {
    const c = counts.get(r.code);
    return c && (c.hosts > 0 || c.machines > 0);
  });
  const summary =
    active.length === 0
      ? 'No region has hosts or machines yet.'
      : active.map((r) => `${r.code}: ${counts.get(r.code)!.hosts} hosts, ${counts.get(r.code)!.machines} machines`).join('; ');
  return (
    <section class="card" aria-labelledby="map-h">
      <h2 id="map-h">Regions</h2>
      <svg class="map" viewBox={`${VIEW.x} ${VIEW.y} ${VIEW.w} ${VIEW.h}`} role="img" aria-labelledby="map-title map-desc" data-testid="map">
        <title id="map-title">World map of regions</title>
        <desc id="map-desc">{summary}</desc>
        <rect class="sea" x={VIEW.x} y={VIEW.y} width={VIEW.w} height={VIEW.h} />
        <image href="ui/land.svg" x={-180} y={-90} width={360} height={180} preserveAspectRatio="none" />
        {[-60, -30, 0, 30, 60].map((lat) => (
          <line key={`lat${lat}`} class="grid" x1={-180} x2={180} y1={-lat} y2={-lat} />
        ))}
        {[-120, -60, 0, 60, 120].map((lon) => (
          <line key={`lon${lon}`} class="grid" x1={lon} x2={lon} y1={VIEW.y} y2={VIEW.y + VIEW.h} />
        ))}
        {regions.map((r) => {
          const c = counts.get(r.code) ?? { hosts: 0, machines: 0 };
          const on = c.hosts > 0 || c.machines > 0;
          return (
            <g key={r.code} class={on ? 'region on' : 'region'} transform={`translate(${r.longitude} ${-r.latitude})`} data-region={r.code}>
              <title>{`${r.name} (${r.code}): ${c.hosts} hosts, ${c.machines} machines`}</title>
              <g class="mark">
                <circle r={on ? 1.8 + Math.sqrt(c.machines) * 0.9 : 0.9} />
                {on && <text x={r.longitude > 140 ? -3 : 3} y={1.5} text-anchor={r.longitude > 140 ? 'end' : 'start'}>{`${r.code} ${c.machines}`}</text>}
              </g>
            </g>
          );
        })}
      </svg>
      {active.length === 0 ? (
        <Empty>No region has hosts or machines yet.</Empty>
      ) : (
        <Table label="Regions in use" head={['Region', 'Name', 'Hosts', 'Machines']} testid="regions">
          {active.map((r) => (
            <tr key={r.code} data-region={r.code}>
              <td>{r.code}</td>
              <td>{r.name}</td>
              <td>{counts.get(r.code)!.hosts}</td>
              <td>{counts.get(r.code)!.machines}</td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}

// The last changes, newest first, announced politely to screen readers as they arrive.
import { clock, matches } from '../format.js';
import type { ChangeEntry } from '../model.js';

export function Changes(props: { entries: ChangeEntry[]; filter: string }) {
  const shown = props.entries.filter((e) => matches(props.filter, e.text, e.org));
  return (
    <aside class="card changes" aria-labelledby="changes-h">
      <h2 id="changes-h">Last changes</h2>
      {shown.length === 0 ? <p class="empty">Nothing has changed since this page opened. Changes appear here as they happen.</p> : null}
      <ol aria-live="polite" data-testid="changes">
        {shown.map((e) => (
          <li key={e.seq}>
            <time dateTime={e.at}>{clock(e.at)}</time> <span>{e.text}</span>
          </li>
        ))}
      </ol>
    </aside>
  );
}

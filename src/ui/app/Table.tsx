// A captioned table in a scroll box of its own, so a phone scrolls the table and not the page.
import type { ComponentChildren } from 'preact';

export function Table(props: { label: string; head: string[]; children: ComponentChildren; testid?: string }) {
  return (
    <div class="scroll" role="region" aria-label={props.label} tabIndex={0}>
      <table data-testid={props.testid}>
        <caption class="sr-only">{props.label}</caption>
        <thead>
          <tr>
            {props.head.map((h) => (
              <th scope="col" key={h}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

export function Empty(props: { children: ComponentChildren; testid?: string }) {
  return (
    <p class="empty" data-testid={props.testid}>
      {props.children}
    </p>
  );
}

/** A field the record may or may not carry yet (health, version, last seen). */
export function field(rec: object, ...names: string[]): string | null {
  for (const n of names) {
    const v = (rec as Record<string, unknown>)[n];
    if (v !== undefined && v !== null && v !== '') return String(v);
  }
  return null;
}

// Signed out: the form. Signed in: the dashboard, fed by the stream.
import { useEffect, useRef, useState } from 'preact/hooks';
import { applyMessage, emptyMesh, type ChangeEntry } from '../model.js';
import { Changes } from './Changes.js';
import { Hosts } from './Hosts.js';
import { OrgView, NoOrgs } from './OrgView.js';
import { savedToken, saveToken, takeFragmentToken } from './session.js';
import { SignIn } from './SignIn.js';
import { openStream, type LinkState } from './stream.js';
import { WorldMap } from './WorldMap.js';

const MAX_CHANGES = 100;

export function App() {
  const [token, setToken] = useState<string | null>(() => {
    const t = takeFragmentToken() ?? savedToken();
    saveToken(t);
    return t;
  });
  const [refusal, setRefusal] = useState<string | null>(null);

  // A new /ui#token=… link opened in the same tab signs in again.
  useEffect(() => {
    const onHash = (): void => {
      const t = takeFragmentToken();
      if (t) {
        saveToken(t);
        setRefusal(null);
        setToken(t);
      }
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const signOut = (why: string | null): void => {
    saveToken(null);
    setRefusal(why);
    setToken(null);
  };
  if (!token)
    return (
      <SignIn
        error={refusal}
        onSubmit={(t) => {
          saveToken(t);
          setRefusal(null);
          setToken(t);
        }}
      />
    );
  return <Dashboard key={token} token={token} onRefused={(m) => signOut(m)} onSignOut={() => signOut(null)} />;
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

function Dashboard(props: { token: string; onRefused(message: string): void; onSignOut(): void }) {
  const mesh = useRef(emptyMesh());
  const hadSnapshot = useRef(false);
  const [, setVersion] = useState(0);
  const [link, setLink] = useState<LinkState>({ kind: 'connecting' });
  const [who, setWho] = useState<{ scope: string; org: string | null } | null>(null);
  const [changes, setChanges] = useState<ChangeEntry[]>([]);
  const [filter, setFilter] = useState('');
  const now = useNow(1000);

  useEffect(
    () =>
      openStream(props.token, {
        message(msg) {
          if (msg.type === 'hello') {
            setWho({ scope: msg.scope, org: msg.org });
            return;
          }
          const r = applyMessage(mesh.current, msg, hadSnapshot.current);
          mesh.current = r.mesh;
          if (msg.type === 'snapshot') hadSnapshot.current = true;
          if (r.entries.length > 0) setChanges((c) => [...r.entries.reverse(), ...c].slice(0, MAX_CHANGES));
          setVersion((v) => v + 1);
        },
        state: setLink,
        refused: props.onRefused,
      }),
    [props.token],
  );

  const m = mesh.current;
  const orgs = [...m.orgs.values()].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <div class="page">
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="top">
        <h1>sixpn mesh</h1>
        {who && (
          <span class="who" data-testid="who">
            {who.scope === 'org' ? `org ${who.org}` : `${who.scope} (all orgs)`}
          </span>
        )}
        <LinkBadge link={link} />
        <div class="filter">
          <label for="filter">Filter</label>
          <input
            id="filter"
            type="search"
            placeholder="id, app, region, state, address…"
            value={filter}
            onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
          />
        </div>
        <button type="button" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      {!hadSnapshot.current ? (
        <main id="content" class="loading">
          <p>Loading the mesh…</p>
        </main>
      ) : (
        <main id="content" class="layout">
          <div class="primary">
            <WorldMap mesh={m} filter={filter} />
            {orgs.length === 0 ? <NoOrgs admin={who?.scope !== 'org'} /> : orgs.map((o) => <OrgView key={o.name} org={o} mesh={m} filter={filter} now={now} />)}
            <Hosts mesh={m} filter={filter} now={now} />
          </div>
          <Changes entries={changes} filter={filter} />
        </main>
      )}
    </div>
  );
}

function LinkBadge(props: { link: LinkState }) {
  const l = props.link;
  const text = l.kind === 'live' ? 'Live' : l.kind === 'connecting' ? 'Connecting…' : `Reconnecting (attempt ${l.attempt}): ${l.reason}`;
  return (
    <span class={`link link-${l.kind}`} role="status" data-testid="link">
      {text}
    </span>
  );
}

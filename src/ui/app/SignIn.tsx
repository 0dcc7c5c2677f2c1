// The sign-in form: a token pasted here stays in this tab's sessionStorage.
import { useState } from 'preact/hooks';

export function SignIn(props: { error: string | null; onSubmit(token: string): void }) {
  const [value, setValue] = useState('');
  const [empty, setEmpty] = useState(false);
  const submit = (e: Event): void => {
    e.preventDefault();
    const t = value.trim();
    if (!t) {
      setEmpty(true);
      return;
    }
    props.onSubmit(t);
  };
  return (
    <main class="signin">
      <h1>sixpn mesh</h1>
      <p>Sign in with an org token (you see that org) or an admin token (you see everything).</p>
      {props.error && (
        <p class="alert" role="alert" id="signin-error">
          <strong>Sign-in failed:</strong> {props.error}. Check the token and try again.
        </p>
      )}
      {empty && !props.error && (
        <p class="alert" role="alert">
          Paste a token first.
        </p>
      )}
      <form onSubmit={submit} aria-describedby={props.error ? 'signin-error' : undefined}>
        <label for="token">Token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={value}
          onInput={(e) => {
            setValue((e.target as HTMLInputElement).value);
            setEmpty(false);
          }}
          autofocus
        />
        <button type="submit">Sign in</button>
      </form>
      <p class="hint">
        Make an org token with <code>sixpn tokens create --scope org --org ORG</code>, or open <code>/ui#token=TOKEN</code>: the part after <code>#</code> never
        leaves the browser.
      </p>
    </main>
  );
}

// The token lives in sessionStorage only (gone when the tab closes). A token
// given as /ui#token=… is taken from the fragment, which browsers never send
// to the server, and the fragment is then wiped from the address bar.
const KEY = 'sixpn.token';

export function takeFragmentToken(): string | null {
  const m = /(?:^#|&)token=([^&]*)/.exec(window.location.hash);
  if (!m) return null;
  history.replaceState(null, '', window.location.pathname + window.location.search);
  const token = decodeURIComponent(m[1]!).trim();
  return token || null;
}

export function savedToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(KEY, token);
    else sessionStorage.removeItem(KEY);
  } catch {
    // storage disabled: the token lasts as long as the page
  }
}

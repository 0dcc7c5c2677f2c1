// Entry of the page served at /ui (bundled by scripts/build-ui.mjs).
import { render } from 'preact';
import { App } from './App.js';
import './styles.css';

render(<App />, document.getElementById('root')!);

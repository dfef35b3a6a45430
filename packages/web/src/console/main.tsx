import { render } from 'preact';
import '../shared/base.css';

/** The operator console: a placeholder until it is built (issue 14, point 2). */
function Console() {
  return (
    <main class="placeholder">
      <h1>Parley console</h1>
      <p>
        The operator console is not built yet. The chat app is at <a href="/">/</a>.
      </p>
    </main>
  );
}

render(<Console />, document.getElementById('app')!);

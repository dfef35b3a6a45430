import { render } from 'preact';
import '../shared/base.css';

function App() {
  return (
    <main class="placeholder">
      <h1>Parley</h1>
      <p>The chat app is on its way.</p>
    </main>
  );
}

render(<App />, document.getElementById('app')!);

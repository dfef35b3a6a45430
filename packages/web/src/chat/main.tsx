import { render } from 'preact';
import { App } from './components/app.tsx';
import '../shared/base.css';
import '../shared/controls.css';
import './chat.css';

render(<App />, document.getElementById('app')!);

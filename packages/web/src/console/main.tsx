import { render } from 'preact';
import { Dashboard } from './components/dashboard.tsx';
import { SignIn } from './components/sign-in.tsx';
import { session } from './session.ts';
import '../shared/base.css';
import '../shared/controls.css';
import './console.css';

/** The operator console at /console/: admins only (the log-in refuses other accounts). */
function Console() {
  const current = session.value;
  return current ? <Dashboard key={current.token} session={current} /> : <SignIn />;
}

render(<Console />, document.getElementById('app')!);

import { session } from '../session.ts';
import { Shell } from './shell.tsx';
import { SignIn } from './sign-in.tsx';

export function App() {
  const current = session.value;
  return current ? <Shell key={current.user.id} session={current} /> : <SignIn />;
}

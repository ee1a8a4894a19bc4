/** `npm run start:projectors`: the projectors alone. */
import { runServiceOrExit } from '../service';

runServiceOrExit(['projectors']);

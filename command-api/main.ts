/** `npm run start:command-api`: the command API alone. */
import { runServiceOrExit } from '../service';

runServiceOrExit(['command-api']);

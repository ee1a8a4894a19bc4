/** `npm run start:query-api`: the query API alone. */
import { runServiceOrExit } from '../service';

runServiceOrExit(['query-api']);

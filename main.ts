/** `npm start`: the whole service in one process. */
import { runServiceOrExit } from './service';

runServiceOrExit(['command-api', 'query-api', 'projectors']);

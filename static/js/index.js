// The boards index: keeps "updated … ago" current.
import { startClock } from './clock.js';

startClock(document, 5000);

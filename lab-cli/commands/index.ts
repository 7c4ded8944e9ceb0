// Every command module of the CLI, in the order they register (`lab` first: up, down, run…).
// A static list, so the CLI can be bundled into one file (scripts/post-build.mjs) and start fast.
import * as app from './app.js';
import * as block from './block.js';
import * as browse from './browse.js';
import * as browserOpen from './browser-open.js';
import * as ca from './ca.js';
import * as cache from './cache.js';
import * as capture from './capture.js';
import * as dns from './dns.js';
import * as lab from './lab.js';
import * as show from './show.js';
import type { RegisterCommands } from './types.js';
import * as ui from './ui.js';

export const COMMANDS: readonly { register: RegisterCommands }[] = [
  lab,
  app,
  block,
  browse,
  browserOpen,
  ca,
  cache,
  capture,
  dns,
  show,
  ui,
];

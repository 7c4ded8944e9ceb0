// Every module of scenario actions (each exports `actions`). A static list, so the CLI can be
// bundled into one file (scripts/post-build.mjs); test/unit/lab-cli checks it names every module.

import type { ActionDef } from '../scenario/types.js';
import * as browser from './browser.js';
import * as ca from './ca.js';
import * as core from './core.js';
import * as dns from './dns.js';
import * as dnsPoison from './dns-poison.js';
import * as http from './http.js';
import * as middlebox from './middlebox.js';
import * as proxy from './proxy.js';

export const ACTION_MODULES: Readonly<Record<string, { actions?: readonly ActionDef[] }>> = {
  browser,
  ca,
  core,
  'dns-poison': dnsPoison,
  dns,
  http,
  middlebox,
  proxy,
};

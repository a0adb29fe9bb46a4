#!/usr/bin/env node
import { runWrapper } from '../oci/wrapper.js';

await runWrapper(process.argv.slice(2), process.env, process.argv[1] ?? '');

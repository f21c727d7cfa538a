#!/usr/bin/env node
// The CDK app (cdk.json: `npx tsx bin/app.ts`). Deploying: docs/deploying.md.
import { buildAttendanceHubApp } from '../lib/attendance-hub-app.js';

buildAttendanceHubApp();

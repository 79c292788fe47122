import { z } from 'zod';
import { defineProtocol } from '../engine/protocol.js';
// Stub: replaced by the helper who owns this file.
export const oracleAllocation = defineProtocol({ type: 'oracle-allocation', description: 'stub', params: z.strictObject({}), create: () => { throw new Error('not built yet'); } });

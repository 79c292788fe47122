import { z } from 'zod';
import { defineProtocol } from '../engine/protocol.js';
// Stub: replaced by the helper who owns this file.
export const allocation = defineProtocol({ type: 'allocation', description: 'stub', params: z.strictObject({}), create: () => { throw new Error('not built yet'); } });
export const absoluteSlicing = defineProtocol({ type: 'absolute-slicing', description: 'stub', params: z.strictObject({}), create: () => { throw new Error('not built yet'); } });

import { z } from 'zod';
import { defineObserver } from '../engine/protocol.js';
// Stub: replaced by the helper who owns this file.
export const topkObserver = defineObserver({ type: 'topk', description: 'stub', params: z.strictObject({}), create: () => { throw new Error('not built yet'); } });

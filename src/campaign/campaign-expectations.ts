import { z } from 'zod';

/*
 * Expectations on a campaign: what must hold of its merged results, stated in the
 * experiment file's `expect:` block and checked at the end of `pcsim sweep` (and by
 * `pcsim check <campaign folder>`). Each reduces every selected run to one value, as a
 * scenario's expectation does (a metric at a cycle, or the mean, minimum or maximum over
 * a window), then the runs' values to one (`across`: their mean, minimum or maximum), or
 * requires every run's value to hold (`across: every`). `point` selects the runs of the
 * grid points with those parameter values (default: every run). A published value is
 * usually a mean over replicates: `across: mean`, the default.
 */

const bound = z.number();
export const campaignExpectationSchema = z.strictObject({
  point: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).default({})
    .describe('parameter key path -> value: only the runs of the points with these values'),
  observer: z.string().min(1).describe('the observer, by its name in the scenario'),
  metric: z.string().min(1).describe('the metric, as written in metrics.csv'),
  at: z.union([z.number().min(0), z.literal('last')]).optional().describe("each run's value at this cycle; default: its last observation of the metric"),
  window: z.strictObject({
    from: z.number().min(0).default(0),
    to: z.number().min(0).optional().describe('default: the end of the run'),
  }).optional().describe("each run's value over the cycles [from, to], reduced by of"),
  of: z.enum(['mean', 'min', 'max']).default('mean').describe("with window: each run's mean, minimum or maximum over it"),
  across: z.enum(['mean', 'min', 'max', 'every']).default('mean').describe("the runs' values: their mean, minimum or maximum, or every one must hold"),
  min: bound.optional(),
  max: bound.optional(),
  value: bound.optional().describe('the expected value; with tolerance and/or relative'),
  tolerance: z.number().nonnegative().optional().describe('absolute: |found - value| <= tolerance'),
  relative: z.number().nonnegative().optional().describe('relative: |found - value| <= relative × |value|'),
}).refine((e) => !(e.at !== undefined && e.window), { message: 'expected either at or window, not both', path: ['window'] })
  .refine((e) => e.min !== undefined || e.max !== undefined || e.value !== undefined, { message: 'expected a bound: min, max or value', path: ['value'] })
  .refine((e) => e.value === undefined || (e.min === undefined && e.max === undefined), { message: 'expected value or min/max, not both', path: ['value'] });

export const campaignExpectationsSchema = z.record(z.string(), campaignExpectationSchema).default({})
  .describe("named expectations on the campaign's results: {point, observer, metric, at|window, of, across, min|max|value, tolerance, relative}");

export type CampaignExpectation = z.infer<typeof campaignExpectationSchema>;

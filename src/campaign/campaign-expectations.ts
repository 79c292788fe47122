import { z } from 'zod';
import { metricFields, withBoundChecks } from '../expect/expectations.js';

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

export const campaignExpectationSchema = withBoundChecks(z.strictObject({
  point: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).default({})
    .describe('parameter key path -> value: only the runs of the points with these values'),
  ...metricFields,
  of: z.enum(['mean', 'min', 'max']).default('mean').describe("with window: each run's mean, minimum or maximum over it"),
  across: z.enum(['mean', 'min', 'max', 'every']).default('mean').describe("the runs' values: their mean, minimum or maximum, or every one must hold"),
}));

export const campaignExpectationsSchema = z.record(z.string(), campaignExpectationSchema).default({})
  .describe("named expectations on the campaign's results: {point, observer, metric, at|window, of, across, min|max|value, tolerance, relative}");

export type CampaignExpectation = z.infer<typeof campaignExpectationSchema>;

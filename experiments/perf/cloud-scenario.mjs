// The P2P cloud scenario at another size, as the perf scripts measure it:
// scenarios/cloud.yaml with its size, and its customers' request sizes, scaled by the
// same factor (size / 10^5), so the cloud is as busy as at 10^5.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const scenarioFile = fileURLToPath(new URL('../../scenarios/cloud.yaml', import.meta.url));

/** Loads pcsim from the build folder `dist` and builds the scaled scenario: { pcsim, scenario, registry }. */
export async function loadCloud(dist, size, cycles, set = []) {
  const pcsim = await import(pathToFileURL(path.resolve(dist, 'index.js')).href);
  const { scenario, registry } = await pcsim.loadScenario(scenarioFile, { set: [`size=${size}`, `cycles=${cycles}`, ...set] });
  scaleRequests(scenario, size / 100000);
  return { pcsim, scenario, registry };
}

/** Multiplies every request size in every allocator's `requests:` by `factor`. */
export function scaleRequests(scenario, factor) {
  for (const block of Object.values(scenario.protocols)) {
    for (const request of block.params?.requests ?? block.requests ?? []) {
      if (typeof request.size === 'number') request.size = Math.round(request.size * factor);
      else if (request.size?.dist === 'uniform') { request.size.min *= factor; request.size.max *= factor; }
    }
  }
}

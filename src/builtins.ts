import { Registry } from './engine/registry.js';
import { cyclon } from './protocols/cyclon.js';
import { oracle } from './protocols/oracle.js';
import { newscast } from './protocols/newscast.js';
import { overlay } from './observers/overlay.js';
import { aggregation } from './protocols/aggregation.js';
import { staticGraph } from './protocols/static-graph.js';
import { slicing } from './protocols/slicing.js';
import { slicingObserver } from './observers/slicing.js';
import { aggregationObserver } from './observers/aggregation.js';
import { churnObserver } from './observers/churn.js';
import { churn } from './controls/churn.js';
import { sessions } from './controls/sessions.js';
import { catastrophe } from './controls/catastrophe.js';
import { outage } from './controls/outage.js';
import { partition } from './controls/partition.js';
import { trace } from './controls/trace.js';
import { allocation, absoluteSlicing } from './cloud/subcloud-protocol.js';
import { oracleAllocation } from './cloud/oracle-allocator.js';
import { topk } from './cloud/topk.js';
import { subcloudsObserver } from './observers/subclouds.js';
import { topkObserver } from './observers/topk.js';

/** Every built-in protocol, observer and control: adding one is one line here. */
export function builtinRegistry(): Registry {
  return new Registry()
    .register(cyclon)
    .register(oracle)
    .register(newscast)
    .register(overlay)
    .register(aggregation)
    .register(staticGraph)
    .register(slicing)
    .register(aggregationObserver)
    .register(churnObserver)
    .register(slicingObserver)
    .register(churn)
    .register(sessions)
    .register(catastrophe)
    .register(outage)
    .register(partition)
    .register(trace)
    .register(allocation)
    .register(absoluteSlicing)
    .register(oracleAllocation)
    .register(topk)
    .register(subcloudsObserver)
    .register(topkObserver);
}

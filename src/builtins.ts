import { Registry } from './engine/registry.js';
import { cyclon } from './protocols/cyclon.js';
import { oracle } from './protocols/oracle.js';
import { overlay } from './observers/overlay.js';

/** Every built-in protocol, observer and control: adding one is one line here. */
export function builtinRegistry(): Registry {
  return new Registry()
    .register(cyclon)
    .register(oracle)
    .register(overlay);
}

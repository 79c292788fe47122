// plugins/informed.mjs: an observer, in plain JavaScript
import { defineObserver, z } from 'pcsim';

export default defineObserver({
  type: 'informed',
  description: 'how many live nodes heard the rumour',
  params: z.strictObject({ protocol: z.string().default('rumour') }),
  metrics: ['informed', 'informed_fraction'],
  create: (ctx, params) => {
    const rumour = ctx.protocol(params.protocol); // the Rumour instance: read its state
    return {
      observe(emit) {
        const { store } = ctx;
        let informed = 0;
        for (let i = 0; i < store.size; i++) informed += rumour.informed[store.liveSlot(i)];
        emit('informed', informed);
        emit('informed_fraction', informed / store.size);
      },
    };
  },
});

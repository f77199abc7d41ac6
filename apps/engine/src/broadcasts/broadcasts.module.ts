import { Module } from '@nestjs/common';
import { BroadcastReactor, REACTORS } from '@journey/reactors';
import { READ_MODEL_STORE, type ReadModelStore } from '@journey/read-models';
import { ProjectionsModule } from '../projections/projections.module';
import { BroadcastsController } from './broadcasts.controller';
import { BroadcastsService } from './broadcasts.service';
import { segmentMembers } from './segment-members';
import { CancelBroadcastHandler, GetBroadcastHandler, ListBroadcastsHandler, ScheduleBroadcastHandler } from './broadcast.commands';

/**
 * Broadcasts: the HTTP API (through the broadcast decider onto `broadcast-<ws>-<id>`), and the BroadcastReactor that
 * fans a broadcast out over its segment's members and decides each member's message (registered under REACTORS, run
 * by ReactorsModule in the `reactor` role). Analytics from the `broadcast-analytics` read model.
 */
@Module({
  imports: [ProjectionsModule],
  controllers: [BroadcastsController],
  providers: [
    BroadcastsService,
    ScheduleBroadcastHandler,
    CancelBroadcastHandler,
    ListBroadcastsHandler,
    GetBroadcastHandler,
    {
      provide: REACTORS,
      inject: [READ_MODEL_STORE],
      useFactory: (readModels: ReadModelStore) => new BroadcastReactor(segmentMembers(readModels)),
    },
  ],
})
export class BroadcastsModule {}

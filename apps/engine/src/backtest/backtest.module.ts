import { Module } from '@nestjs/common';
import { BacktestController } from './backtest.controller';
import { BacktestTriggerHandler } from './backtest-trigger.query';

/** Trigger backtests over the event log (POST /v1/triggers/:id/backtest, POST /v1/triggers/backtest). */
@Module({ controllers: [BacktestController], providers: [BacktestTriggerHandler] })
export class BacktestModule {}

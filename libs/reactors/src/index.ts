export * from './runtime/reactor';
export * from './runtime/clock';
export * from './runtime/partition';
export * from './runtime/reactor-runner';
export * from './timers/timer-scheduler';
export * from './stage/stage-reactor';
export * from './triggers/trigger-reactor';
export * from './backtest/run-backtest';

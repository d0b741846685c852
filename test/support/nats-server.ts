// The fleet tests' nats-server: the same helper the publish bench uses (bench/ is built, test/ is not).
export * from '../../bench/nats-server.js';

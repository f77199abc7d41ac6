#!/usr/bin/env node
// Readiness probe for scripts/servers/*.sh: exits 0 when the server answers a real client request.
//   node probe.js kafka 127.0.0.1:19092            kafkajs admin lists topics
//   node probe.js mongo mongodb://127.0.0.1:27018  mongodb driver ping
'use strict';

async function kafka(brokers) {
  const { Kafka, logLevel } = require('kafkajs');
  const admin = new Kafka({
    clientId: 'servers-probe',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  }).admin();
  await admin.connect();
  try {
    await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

async function mongo(url) {
  const { MongoClient } = require('mongodb');
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close();
  }
}

const probes = { kafka, mongo };
const [kind, address] = process.argv.slice(2);
if (!probes[kind] || !address) {
  console.error('usage: probe.js kafka|mongo ADDRESS');
  process.exit(2);
}
probes[kind](address).then(
  () => process.exit(0),
  (err) => {
    console.error(`${kind} probe: ${err.message}`);
    process.exit(1);
  },
);

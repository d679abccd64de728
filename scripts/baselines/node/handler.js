'use strict';
// The Node.js baseline of scripts/bench: what a Node Lambda pays to build the two AWS SDK v3
// clients Roster uses at init (CommonJS, the SDK's dist-cjs build, unbundled). The handler
// returns a constant and uses neither client, like the Rust `sdk-hello`.
const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
const { SESv2Client } = require('@aws-sdk/client-sesv2');

const dynamodb = new DynamoDBClient({});
const ses = new SESv2Client({});

exports.clients = { dynamodb, ses };
exports.handler = async () => ({ statusCode: 200, body: 'hello' });

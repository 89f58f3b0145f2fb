#!/usr/bin/env node
// Installed command: starts the server (configuration from the environment; see README).
import "../dist/main.js"

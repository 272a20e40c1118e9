'use strict';
module.exports = require('../plan').eventModule('move.delivered');

'use strict';
module.exports = require('../plan').eventModule('order.refunded');

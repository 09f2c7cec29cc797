// An error with properties and a cause: the stack ends in "{ ... }".
const err = new Error('open /etc/app.conf failed', { cause: new Error('ENOENT') });
err.code = 'ENOENT';
err.path = '/etc/app.conf';
throw err;

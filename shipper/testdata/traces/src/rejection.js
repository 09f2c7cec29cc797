// An unhandled promise rejection, and console.error of an error before it.
console.error(new TypeError('headers must be an object'));
async function fetchUser() { throw new RangeError('user id out of range: -1'); }
fetchUser();

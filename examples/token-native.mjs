import { M2MError, packTokenNative, packTokenNativeBinary, unpackTokenNative } from 'm2m-protocol';

const wire = packTokenNative([9906, 1917, 0], 'cl100k_base');
console.log(wire);
console.log(unpackTokenNative(wire));
console.log(packTokenNativeBinary([9906, 1917, 0], 'cl100k_base'));
try {
  unpackTokenNative('#TK|C|gA==');
} catch (err) {
  console.log(err instanceof M2MError, err.code);
}

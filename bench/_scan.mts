import { scan } from '../ts/security.js';
import { chatPayloadOfSize } from './corpus.js';

const content = chatPayloadOfSize(10000);
for (let i = 0; i < 300; i++) scan(content);

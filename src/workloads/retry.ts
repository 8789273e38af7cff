/** Read-modify-write against the API server: a concurrent writer makes the update 409; read again and redo. */
import { KubeApiError } from '../kube/api.js';

export const retryOnConflict = async <T>(update: () => Promise<T>, attempts = 5): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await update();
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 409) || attempt >= attempts) throw err;
    }
  }
};

/* libFuzzer target for the agent's request parser (hook/agent-protocol/agent_proto.c),
 * which reads whatever any process of the container's user sends to the agent.
 * Built with clang -fsanitize=fuzzer,address,undefined and run for a bounded
 * time by tests/fuzz/run (ctest fuzz:agent_request). */
#include "agent_proto.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* An exact-size copy, so that reading one byte past the payload is caught. */
  char *payload = malloc(size == 0 ? 1 : size);
  if (payload == NULL) {
    return 0;
  }
  memcpy(payload, data, size);
  struct fod_agent_request request;
  const char *why = NULL;
  if (fod_agent_parse(payload, size, &request, &why) == 0) {
    /* What the agent relies on after a successful parse. */
    if (request.argv == NULL || request.argv[0] == NULL || request.argv[0][0] == '\0' ||
        request.env == NULL || request.cwd == NULL || request.cwd[0] != '/' ||
        request.image == NULL) {
      abort();
    }
    for (char **e = request.env; *e != NULL; ++e) {
      if (strchr(*e, '=') == NULL || **e == '=') {
        abort();
      }
    }
    fod_agent_request_free(&request);
  } else if (why == NULL) {
    abort();
  }
  free(payload);
  return 0;
}

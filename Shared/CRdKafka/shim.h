// librdkafka >= 2.1 is required (Debian 12's 2.0.2 cannot parse tagged fields).
// `make setup` builds 2.8.0 into .local/librdkafka; Package.swift adds its include path.
#include <librdkafka/rdkafka.h>

import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharehub.settings")
# WhiteNoise serves static files as a synchronous file iterator; under ASGI Django wraps it and warns
# on every file. The wrapping is correct for files of this size, so the warning is noise in the log.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")
# jieba's dictionary is not loaded here: a worker loads it on its first search (sharehub.search.segment),
# so one that serves only pages and the API never holds it.
application = get_asgi_application()

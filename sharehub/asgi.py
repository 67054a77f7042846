import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharehub.settings")
# WhiteNoise serves static files as a synchronous file iterator; under ASGI Django wraps it and warns
# on every file. The wrapping is correct for files of this size, so the warning is noise in the log.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")
application = get_asgi_application()

from sharehub.search.segment import warm_up_in_background  # noqa: E402  (needs the app registry)

warm_up_in_background()

"""`seldon_core` for models written against Seldon Core's python wrapper, served by seldon_serve.

A compatibility layer, not Seldon's package: it offers the modules and names such models import
(`seldon_core.user_model`, `.utils`, `.microservice`, `.flask_utils`, `.env_utils`, `.metrics`,
`.metadata`, `.storage`, `.proto.prediction_pb2[_grpc]`), behaving as Seldon Core's release
`__version__` does on the same inputs. Serving itself is seldon_serve's; nothing here starts a
server. Like Seldon's, this package exports `__version__` and `Storage`.
"""

from .storage import Storage
from .version import __version__

__all__ = ["Storage", "__version__"]

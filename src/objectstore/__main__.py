from objectstore.cli import main

raise SystemExit(main())
